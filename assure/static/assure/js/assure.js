// Progressive enhancement only: every page works without this file (DESIGN.md, "Front end").
// GOV.UK Frontend styles its scripted components under these classes; a browser that does not run
// modules never gets them, and keeps the plain HTML behaviour.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
