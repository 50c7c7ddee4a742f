// Answers after 1.5 s: the request a TERM must not cut.
export async function loader() {
  await new Promise((r) => setTimeout(r, 1500));
  return Response.json({ framework: 'react-router', pid: process.pid, slow: true });
}
