"""Raw mail to text: charsets, headers, MIME parameters, the parse under limits, large-attachment links."""
