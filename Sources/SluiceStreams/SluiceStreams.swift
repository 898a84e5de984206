/// SluiceStreams: the processing engine (DESIGN.md, section SluiceStreams).
