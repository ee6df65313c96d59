"""The 1414 desk on the channels (issue 12): the gate in front of the dialog engine, the relay
of operator messages, the live feed for the console, and the timeouts sweep."""
