"""The ASGI application: REST routes, the realtime WebSocket route, auth and the client-secret store."""
