"""Notifications to the customer: rendering per channel and language, the senders' ports,
preferences and quiet hours, staleness checks at send time and signed links to the
customer's page. ``Notifier`` is the ``Deliverer`` of topic ``notification.requested``."""
