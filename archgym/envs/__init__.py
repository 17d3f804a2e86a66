"""One module per problem; each registers its environment ids when imported."""
