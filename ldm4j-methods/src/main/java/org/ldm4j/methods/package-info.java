/** Guided-synthesis methods built on the engine: one package per paper (gradop, blended, fgdm). */
package org.ldm4j.methods;
