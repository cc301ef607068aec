import java.lang.management.ManagementFactory;
import java.util.Random;
import javax.management.ObjectName;

/**
 * The demo's Java app for `make demo`: a shop whose order counter and queue depth are MBeans,
 * read over remote JMX by podkit's JMX adapter. Run as a single-file program: java DemoShop.java
 */
public final class DemoShop {

    /** The management interface: what JMX sees. */
    public interface OrdersMBean {
        long getProcessed();

        int getQueueDepth();

        boolean isOpen();
    }

    /** Orders arrive at random; each one bumps the counter. */
    public static final class Orders implements OrdersMBean {
        private volatile long processed;
        private volatile int queueDepth;

        @Override
        public long getProcessed() {
            return processed;
        }

        @Override
        public int getQueueDepth() {
            return queueDepth;
        }

        @Override
        public boolean isOpen() {
            return true;
        }
    }

    public static void main(String[] args) throws Exception {
        Orders orders = new Orders();
        ManagementFactory.getPlatformMBeanServer()
            .registerMBean(orders, new ObjectName("demo.shop:type=Orders,region=eu"));
        Random random = new Random();
        System.out.println("demo shop running; JMX on " + System.getProperty("com.sun.management.jmxremote.port"));
        while (true) {
            orders.processed += random.nextInt(5);
            orders.queueDepth = random.nextInt(20);
            Thread.sleep(500);
        }
    }
}
