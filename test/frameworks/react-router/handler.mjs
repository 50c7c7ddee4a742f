// React Router's own request handler on Express, no listen(): corral handler.mjs (after
// `react-router build`). What react-router-serve does, minus its listen() and logging.
import { createRequestHandler } from '@react-router/express';
import express from 'express';
import * as build from './build/server/index.js';

const app = express();
app.disable('x-powered-by');
app.use('/assets', express.static('build/client/assets', { immutable: true, maxAge: '1y' }));
app.use(express.static('build/client', { maxAge: '1h' }));
app.use(createRequestHandler({ build, mode: 'production' }));

export default app;
