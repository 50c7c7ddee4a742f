import { useLoaderData } from 'react-router';

export function loader() {
  return { pid: process.pid };
}

export default function Home() {
  const { pid } = useLoaderData();
  return (
    <main>
      <h1>React Router page</h1>
      <p>served by pid {pid}</p>
    </main>
  );
}
