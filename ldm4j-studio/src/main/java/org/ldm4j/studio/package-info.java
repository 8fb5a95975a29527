/** The ldm4j studio: a Javalin server and a paint-canvas page over the library. */
package org.ldm4j.studio;
