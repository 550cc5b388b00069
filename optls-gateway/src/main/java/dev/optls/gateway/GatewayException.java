package dev.optls.gateway;

/** The gateway could not start (e.g. a port is taken); the message names the route and what to do. */
public final class GatewayException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed, for which route, and the likely fix */
    public GatewayException(String message) {
        super(message);
    }
}
