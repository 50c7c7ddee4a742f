// Answers after 1.5 s: the request a TERM must not cut.
export default defineEventHandler(async () => {
  await new Promise((r) => setTimeout(r, 1500));
  return { framework: 'nitro', pid: process.pid, slow: true };
});
