import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// The component tests render MUI in jsdom. On this project's 2-core CI
// machines, shared with the backend's integration suites, a test's wall time
// is its CPU time (0.2-2 s; the first test of a file the most, as it warms
// the JIT up) times however many processes compete for the cores. Jest's 5 s
// and Testing Library's 1 s for findBy/waitFor leave no headroom for that.
// Waits still end as soon as their condition holds, so this costs nothing
// when the machine is idle; a test that really hangs still fails.
jest.setTimeout(15_000);
configure({ asyncUtilTimeout: 5_000 });
