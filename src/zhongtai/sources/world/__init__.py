"""The synthetic lender's world, one chunk of applicants at a time.

The generator knows the ground truth (who belongs to a fraud ring, who will default and
why); the platform only ever sees what lands in the inbox. `parameters` holds the world's
knobs, `simulation` and `outcomes` draw a `chunk.Chunk`, `tables` writes it as sources.
"""
