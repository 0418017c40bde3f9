"""Links between people on chat platforms (Slack) and platform users."""
