"""A workflow configuration drawn as a standalone SVG flow chart, top to bottom.

`workflow_svg(workflow)` takes a workflow document (the dict of
`workflows/<pack>/<matter>.yaml`, possibly not yet valid) and draws it the way
a service standard's process figure does:

- stages are boxes in layers: a stage's layer is the longest path to it from
  `start` (back edges of cycles ignored), so parallel branches of a fork sit
  side by side in one layer; end stages share the bottom row;
- an action to the next layer is an arrow straight down (forks and joins get a
  bar); any other action (to an end stage further down, or back up) leaves the
  box sideways into a lane on the right, and lanes to end stages drop straight
  onto their end box, so a rejection from any stage is one line, not a tangle;
- a timer's expiry is a dashed arrow; correction actions (the stage stays, the
  clock pauses) are a loop on the box; citizen actions and the marks are
  explained in the legend; the commitment is the caption under the title.

The output uses presentation attributes only (no <style>, no script, no
external resource), so it can be inlined under a strict CSP, and every text
that comes from configuration is XML-escaped. Same input, same bytes.

The modules: `graph` (stages, edges, loops, layers), `layout` (box contents,
sizes, places, routing), `drawing` (the SVG document, `workflow_svg`), `svg`
(small SVG pieces), `text` (escaping, widths, wrapping), `style` (sizes,
colours, font) and `titles` (every word a person reads).
"""

from __future__ import annotations

from formflow.workflow.diagram.drawing import workflow_svg
from formflow.workflow.diagram.text import text_width, wrap
from formflow.workflow.diagram.titles import LEVEL_TITLES, RESULT_TITLES, level_title, period_text

__all__ = ["LEVEL_TITLES", "RESULT_TITLES", "level_title", "period_text", "text_width", "workflow_svg", "wrap"]
