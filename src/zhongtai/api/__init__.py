"""The real-time decision and partner API."""
