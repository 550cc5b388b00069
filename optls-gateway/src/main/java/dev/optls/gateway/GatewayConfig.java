package dev.optls.gateway;

import java.util.List;
import java.util.Objects;

/**
 * A loaded, checked gateway configuration.
 *
 * @param source where it was read from (for messages)
 * @param routes at least one route, names unique
 */
public record GatewayConfig(String source, List<Route> routes) {
    public GatewayConfig {
        Objects.requireNonNull(source, "source");
        routes = List.copyOf(routes);
    }
}
