export { createApp, type App, type AppOptions } from './app.js';
export { startServer, type RunningServer, type ServeOptions } from './serve.js';
export { toNodeHandler } from './node-adapter.js';
export { discoverRuns, type CatalogEntry } from './run-catalog.js';
