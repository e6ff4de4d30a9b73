// Never finishes.
while (true) {
  // spin
}
