export default defineEventHandler(() => ({ framework: 'nitro', pid: process.pid }));
