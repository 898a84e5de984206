/// SluiceNexmark: the Nexmark benchmark generator and its reference queries.
