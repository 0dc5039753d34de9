// WGS84 ⇄ GCJ-02 (the offset of AMap tiles), the public formula as in geo_service/domain/crs.py.
'use strict';

(function () {
  const A = 6378245.0;
  const EE = 0.00669342162296594323;

  function inChina(lon, lat) {
    return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271;
  }

  function offset(lon, lat) {
    const x = lon - 105.0, y = lat - 35.0, PI = Math.PI;
    let dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dlat += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    let dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dlon += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    const radLat = lat / 180.0 * PI;
    const magic = 1.0 - EE * Math.sin(radLat) ** 2;
    const sqrtMagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtMagic) * PI);
    dlon = (dlon * 180.0) / (A / sqrtMagic * Math.cos(radLat) * PI);
    return [dlon, dlat];
  }

  function toGcj02(lon, lat) {
    if (!inChina(lon, lat)) return [lon, lat];
    const [dlon, dlat] = offset(lon, lat);
    return [lon + dlon, lat + dlat];
  }

  function toWgs84(lon, lat) {
    let wlon = lon, wlat = lat;
    for (let i = 0; i < 30; i++) {
      const [flon, flat] = toGcj02(wlon, wlat);
      const elon = flon - lon, elat = flat - lat;
      wlon -= elon;
      wlat -= elat;
      if (Math.abs(elon) < 1e-10 && Math.abs(elat) < 1e-10) break;
    }
    return [wlon, wlat];
  }

  window.GCJ02 = {toGcj02, toWgs84};
})();
