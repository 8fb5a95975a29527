package org.ldm4j.studio;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;

/**
 * How the studio server runs.
 *
 * @param host address to bind; anything but a loopback address needs a {@code token}
 * @param port TCP port, 0 for an ephemeral one (tests)
 * @param token when set, every API and gallery request must send {@code Authorization: Bearer <token>}
 * @param modelSpec model to load (folder, .safetensors or Hugging Face id); null = none
 * @param modelRequired true when the user named the model: failing to load it stops the server instead of
 *                      starting it without one (the default ToyWorld model may simply not be there yet)
 * @param gallery folder the results are written to and the only folder files are served from
 * @param vae     a VAE folder to use instead of the model's (null: the model's own); failing to load it stops the server
 * @param clip    a CLIP (transformers folder or Hugging Face id) for the edit mode's {@code rankWith: "clip"} (null: that
 *                ranking is off); failing to load it stops the server
 */
public record StudioConfig(String host, int port, String token, String modelSpec, boolean modelRequired,
                           Path gallery, String device, String dtype, int threads, Limits limits, Path vae, String clip) {

    /** Without CLIP ranking in the edit mode. */
    public StudioConfig(String host, int port, String token, String modelSpec, boolean modelRequired,
                        Path gallery, String device, String dtype, int threads, Limits limits, Path vae) {
        this(host, port, token, modelSpec, modelRequired, gallery, device, dtype, threads, limits, vae, null);
    }

    /** With the model's own VAE. */
    public StudioConfig(String host, int port, String token, String modelSpec, boolean modelRequired,
                        Path gallery, String device, String dtype, int threads, Limits limits) {
        this(host, port, token, modelSpec, modelRequired, gallery, device, dtype, threads, limits, null);
    }

    public static final String LOOPBACK = "127.0.0.1";
    public static final int DEFAULT_PORT = 7860;

    /** Refuses settings that would expose an unauthenticated server to the network. */
    public StudioConfig validate() {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        if (token != null && token.isBlank()) throw new IllegalArgumentException("the token must not be empty");
        if (token == null && !isLoopback(host)) {
            throw new IllegalArgumentException("binding " + host + " makes the studio reachable from the network: "
                    + "give a --token that every client must send (Authorization: Bearer <token>)");
        }
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        return this;
    }

    /** True for 127.0.0.0/8, ::1 and "localhost"; a name is resolved, so it must be resolvable. */
    public static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve host " + host);
        }
    }

    public StudioConfig withToken(String t) {
        return new StudioConfig(host, port, t, modelSpec, modelRequired, gallery, device, dtype, threads, limits);
    }

    public StudioConfig withLimits(Limits l) {
        return new StudioConfig(host, port, token, modelSpec, modelRequired, gallery, device, dtype, threads, l);
    }
}
