// lib/app's public surface: startServer (the tests and the CLI use it) and the serve command.
export { startServer, type ServerOptions, type AppContext } from './server.js';
export { runServeCli, SERVE_USAGE } from './cli.js';
