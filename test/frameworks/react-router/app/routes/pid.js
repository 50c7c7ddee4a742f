export function loader() {
  return Response.json({ framework: 'react-router', pid: process.pid });
}
