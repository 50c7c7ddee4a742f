export const dynamic = 'force-dynamic';

export function GET() {
  return Response.json({ framework: 'next', pid: process.pid });
}
