export const dynamic = 'force-dynamic';

export default function Page() {
  return (
    <main>
      <h1>Next.js page</h1>
      <p>served by pid {process.pid}</p>
    </main>
  );
}
