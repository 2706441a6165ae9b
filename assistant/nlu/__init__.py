"""Intent and slot parsing: Rasa NLU trained from the skills' examples, served by one sibling process."""
