import { json } from '@sveltejs/kit';

// Answers after 1.5 s: the request a TERM must not cut.
export async function GET() {
  await new Promise((r) => setTimeout(r, 1500));
  return json({ framework: 'sveltekit', pid: process.pid, slow: true });
}
