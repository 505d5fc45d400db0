-- Order lines are read with their order, on every page of orders: stored in rowid order behind a unique index,
-- each line cost an index search plus a table search, and keeping stored order sorted every order's lines
-- again. They are now a WITHOUT ROWID table keyed by their order and their position in it, so one order's
-- lines are one contiguous range of the key, in stored order, with every column in the key's B-tree.
-- Positions are numbered from 0 in the order the lines were stored (the old rowid order).
CREATE TABLE order_lines_by_position (
    tenant_id         TEXT    NOT NULL,
    account_key       TEXT    NOT NULL,
    order_id          TEXT    NOT NULL,
    position          INTEGER NOT NULL CHECK (position >= 0),
    line_id           TEXT    NOT NULL,
    sku               TEXT    NOT NULL,
    quantity          INTEGER NOT NULL,
    unit_price_micros INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, account_key, order_id, position),
    UNIQUE (tenant_id, account_key, order_id, line_id),
    FOREIGN KEY (tenant_id, account_key, order_id) REFERENCES orders (tenant_id, account_key, order_id)
        ON DELETE CASCADE
) WITHOUT ROWID;

INSERT INTO order_lines_by_position
    (tenant_id, account_key, order_id, position, line_id, sku, quantity, unit_price_micros)
SELECT tenant_id, account_key, order_id,
       row_number() OVER (PARTITION BY tenant_id, account_key, order_id ORDER BY rowid) - 1,
       line_id, sku, quantity, unit_price_micros
FROM order_lines;

DROP TABLE order_lines;
ALTER TABLE order_lines_by_position RENAME TO order_lines;
