export const dynamic = 'force-dynamic';

// Answers after 1.5 s: the request a TERM must not cut.
export async function GET() {
  await new Promise((r) => setTimeout(r, 1500));
  return Response.json({ framework: 'next', pid: process.pid, slow: true });
}
