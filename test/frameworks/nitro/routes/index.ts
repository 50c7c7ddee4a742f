export default defineEventHandler((event) => {
  setResponseHeader(event, 'content-type', 'text/html; charset=utf-8');
  return `<!doctype html><h1>Nitro page</h1><p>served by pid ${process.pid}</p>`;
});
