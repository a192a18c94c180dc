"""The WhatsApp channel through 360dialog (Cloud API `waba-v2`) or Meta's Cloud API direct."""
