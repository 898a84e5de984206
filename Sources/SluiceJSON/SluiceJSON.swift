/// SluiceJSON: a JSON scanner that reads the fields a pipeline needs without building a tree, and a writer.
