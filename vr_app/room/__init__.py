"""The shared memorial room: protocol, pure state, encrypted op store, server and clients.

Four planes are kept apart: presence (heartbeat leases), poses (binary, 20 Hz, never
stored), durable ops (numbered, written and fsync'd before the ack) and voice (WebRTC mesh).
"""
