export function GET() {
  return Response.json({ framework: 'astro', pid: process.pid });
}
