"""Phone calls over a carrier's media stream (Twilio Media Streams, Telnyx media streaming)."""
