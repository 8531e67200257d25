export { matchRoute, type HttpMethod, type Route, type RouteMatch } from './routes.ts';
