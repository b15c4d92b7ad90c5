"""Geometry building blocks under the stages: robust unions and dissolves, local metric CRS, the land overlay."""
