package dev.optls.gateway.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Watches certificate and key files (all of a route's: the default certificate, those chosen by SNI, its
 * session ticket key file) and swaps a route's engines when their content changes: it polls the
 * files' SHA-256 every interval on a thread of its own (building engines takes milliseconds; the event
 * loops never wait). A change that cannot be loaded keeps the old engines and is reported once; the same
 * bad content is not reported again. Connections already open keep the engines they started with.
 *
 * @param <E> the engines (e.g. {@code ServerEngines})
 */
public final class CertificateReloader<E> implements AutoCloseable {
    /** Builds engines from a chain and a key file; throws with a message a person can act on. */
    public interface Loader<E> {
        E load(Path chain, Path key) throws Exception;
    }

    /** Builds engines from every file of a route (its certificates and keys, a ticket key file…). */
    public interface SetLoader<E> {
        E load() throws Exception;
    }

    /** Told what happened on each reload. */
    public interface Listener {
        /** New connections now get the new certificate. */
        void reloaded(String route, Path chain);

        /** The new files cannot be used; the old certificate stays. */
        void failed(String route, Path chain, String problem);
    }

    private static final class Watched<E> {
        final String route;
        final List<Path> files;
        final AtomicReference<E> engines;
        final SetLoader<E> loader;
        byte[] loaded;
        byte[] rejected;

        Watched(String route, List<Path> files, AtomicReference<E> engines, SetLoader<E> loader) {
            this.route = route;
            this.files = List.copyOf(files);
            this.engines = engines;
            this.loader = loader;
            this.loaded = fingerprint(this.files);
        }
    }

    private final List<Watched<E>> watched = new ArrayList<>();
    private final Listener listener;
    private final ScheduledExecutorService timer;

    /** @param listener told of every reload and every rejected change */
    public CertificateReloader(Listener listener) {
        this.listener = listener;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "optls-gateway-reload");
            t.setDaemon(true);
            return t;
        });
    }

    /** Watches {@code chain} and {@code key} of {@code route}; {@code engines} holds what the route serves. */
    public synchronized void watch(String route, Path chain, Path key, AtomicReference<E> engines, Loader<E> loader) {
        watched.add(new Watched<>(route, List.of(chain, key), engines, () -> loader.load(chain, key)));
    }

    /**
     * Watches every file of {@code route} (the first names it in reports): a change to any of them reloads
     * them all through {@code loader}, and a set that cannot be loaded as a whole keeps the old engines.
     */
    public synchronized void watch(String route, List<Path> files, AtomicReference<E> engines, SetLoader<E> loader) {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("nothing to watch for route " + route);
        }
        watched.add(new Watched<>(route, files, engines, loader));
    }

    /** Starts checking every {@code interval}. */
    public void start(Duration interval) {
        long millis = Math.max(1, interval.toMillis());
        timer.scheduleWithFixedDelay(() -> check(false), millis, millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Checks now, on the reloader's thread (SIGHUP): with {@code force}, reloads every route even if its
     * files look unchanged. Returns when done.
     */
    public void checkNow(boolean force) {
        try {
            timer.submit(() -> check(force)).get(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // already reported per route by check()
        }
    }

    private synchronized void check(boolean force) {
        for (Watched<E> w : watched) {
            byte[] now = fingerprint(w.files);
            if (!force && (Arrays.equals(now, w.loaded) || Arrays.equals(now, w.rejected))) {
                continue;
            }
            try {
                E fresh = w.loader.load();
                w.engines.set(fresh);
                w.loaded = now;
                w.rejected = null;
                listener.reloaded(w.route, w.files.get(0));
            } catch (Exception e) {
                w.rejected = now;
                listener.failed(w.route, w.files.get(0), String.valueOf(e.getMessage()));
            } catch (LinkageError e) {
                w.rejected = now;
                listener.failed(w.route, w.files.get(0), e.toString());
            }
        }
    }

    /** SHA-256 over both files' content; an unreadable file makes its own (empty) contribution. */
    static byte[] fingerprint(Path chain, Path key) {
        return fingerprint(List.of(chain, key));
    }

    /** SHA-256 over the files' content; an unreadable file makes its own (empty) contribution. */
    static byte[] fingerprint(List<Path> files) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Path p : files) {
                byte[] content;
                try {
                    content = Files.readAllBytes(p);
                } catch (IOException e) {
                    content = new byte[0];
                }
                sha.update(Integer.toString(content.length).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                sha.update((byte) ':');
                sha.update(content);
            }
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
