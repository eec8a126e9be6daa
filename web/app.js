// The murphy web page.
