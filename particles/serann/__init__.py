"""SeRANN genotype -> phenotype (science/serann.md)."""
