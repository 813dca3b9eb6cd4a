"""The customer's access beyond a signed link: how often a link may be used, new links on
request, one-time codes before irreversible actions, and the rate limits around them."""
