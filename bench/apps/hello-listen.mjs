// The same hello world as hello.mjs, as a script that calls listen() itself (listen mode).
import { createServer } from 'node:http';
import hello from './hello.mjs';

createServer(hello).listen(Number(process.env.PORT ?? 3000));
