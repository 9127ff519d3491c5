"""How important is each weight? One module per scoring method, each a record of its own facts."""
