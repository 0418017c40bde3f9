"""The Slack bot: the agent in Slack threads, over HTTP (Events API) or Socket Mode.

A Slack account acts only as the platform user who linked it (``aiops.slack.linking``); the
bot never matches people by display name or email. Modules: ``config`` (what the bot needs
from the settings), ``linking`` (one-time codes and links), ``store`` (thread -> session,
delivered messages), ``render`` (events -> Block Kit), ``stream`` (a reply updated in place
as a turn runs), ``handlers`` (what a message or a click does), ``bot`` (the Bolt app and its
listeners), ``endpoint`` (the ``/slack/events`` mount), ``socket_mode`` and ``cli`` (Socket
Mode), ``texts`` (the bot's own wording).
"""
