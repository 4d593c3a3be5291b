import '@backstage/cli/asset-types';
// The base styles every Backstage app loads (box sizing, margins, fonts):
// without them the sidebar page is wider than the window.
import '@backstage/ui/css/styles.css';
import ReactDOM from 'react-dom/client';
import App from './App';

ReactDOM.createRoot(document.getElementById('root')!).render(<App />);
