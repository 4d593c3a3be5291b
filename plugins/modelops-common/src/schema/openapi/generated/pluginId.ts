export const pluginId = 'modelops';
