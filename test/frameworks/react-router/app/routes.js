import { index, route } from '@react-router/dev/routes';

export default [
  index('routes/home.jsx'),
  route('api/pid', 'routes/pid.js'),
  route('api/slow', 'routes/slow.js'),
];
