"""Customer satisfaction (CORE-14): one survey per resolved ticket, sent on the channel the
customer used, answered 1-5 with an optional comment from a signed link, a reply on the
channel, the portal or the API."""
