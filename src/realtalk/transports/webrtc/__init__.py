"""WebRTC: browser calls (`/v1/realtime/calls`) — a peer connection, a data channel, a track each way."""
