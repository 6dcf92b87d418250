"""The client side of a therapist-guided session: the message layer, the safety state machine
that works without the console, the link that connects out to it, and the Panda3D binding."""
